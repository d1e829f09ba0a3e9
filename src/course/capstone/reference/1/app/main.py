"""The shop's API: list and create categories and products, each request with its own AsyncSession."""

from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import get_session
from app.models import Category, Product

Session = Annotated[AsyncSession, Depends(get_session)]


class CategoryIn(BaseModel):
    name: str


class CategoryOut(CategoryIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


class ProductIn(BaseModel):
    name: str
    price_cents: int
    category_id: int


class ProductOut(ProductIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


app = FastAPI(title="My shop")


@app.get("/categories", response_model=list[CategoryOut])
async def list_categories(session: Session):
    return (await session.scalars(select(Category).order_by(Category.id))).all()


@app.post("/categories", response_model=CategoryOut, status_code=201)
async def create_category(data: CategoryIn, session: Session):
    category = Category(**data.model_dump())
    session.add(category)
    await session.commit()
    return category


@app.get("/products", response_model=list[ProductOut])
async def list_products(session: Session):
    return (await session.scalars(select(Product).order_by(Product.id))).all()


@app.post("/products", response_model=ProductOut, status_code=201)
async def create_product(data: ProductIn, session: Session):
    product = Product(**data.model_dump())
    session.add(product)
    await session.commit()
    return product
